output "public_ip" {
  description = "The edge's public address: point the exposed host names' public A records here and set it as the lab peer's endpoint."
  value       = oci_core_instance.edge.public_ip
}

output "wireguard_endpoint" {
  description = "Endpoint for the lab peer's WireGuard configuration (Ansible: edge_tunnel_endpoint)."
  value       = "${oci_core_instance.edge.public_ip}:${var.wireguard_port}"
}
