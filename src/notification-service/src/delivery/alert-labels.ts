// The label vocabulary has one home in the contracts (exceptions in the analysis match on it too).
export { alertLabels, type Labels, type LabelSource } from '@auditflow/common/contracts';
