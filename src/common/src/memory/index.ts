export { type CgroupLimit, readCgroupMemoryLimit } from './cgroup-limit.ts';
export { type MemoryPlan, nodeFlagsOf, planMemory, resolveMemoryPlan } from './memory-plan.ts';
export { type AppliedMemoryPlan, appliedMemoryPlan, sizeMemory } from './self-size.ts';
export { isMemoryProfileName, type MemoryProfileName, SERVICE_MEMORY_LIMIT_MIB } from './service-memory.ts';
