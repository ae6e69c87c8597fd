variable "region" {
  description = "OCI region of the edge VM."
  type        = string
  default     = "eu-frankfurt-1"
}

variable "compartment_ocid" {
  description = "Compartment that holds the edge's network and instance."
  type        = string
}

variable "availability_domain" {
  description = "Availability domain of the instance (one with Ampere A1 capacity)."
  type        = string
}

variable "image_ocid" {
  description = "Ubuntu 24.04 aarch64 platform image for the region (arm64, like the Pis)."
  type        = string
}

variable "ssh_public_key" {
  description = "Operator's SSH public key. SSH is not open to the internet: reach the VM through the OCI Bastion service or the tunnel."
  type        = string
}

variable "vcn_cidr" {
  description = "Address space of the edge's VCN."
  type        = string
  default     = "10.70.0.0/16"
}

variable "subnet_cidr" {
  description = "Public subnet of the edge VM."
  type        = string
  default     = "10.70.1.0/24"
}

variable "wireguard_port" {
  description = "UDP port of the WireGuard tunnel to the lab (the only port open besides 443)."
  type        = number
  default     = 51820
}

variable "tunnel_edge_address" {
  description = "The edge's address inside the tunnel."
  type        = string
  default     = "10.99.0.1"
}

variable "tunnel_lab_address" {
  description = "The lab peer's (a Pi's) address inside the tunnel; the upstreams live there."
  type        = string
  default     = "10.99.0.2"
}

variable "lab_wireguard_public_key" {
  description = "Public key of the lab peer (infra/ansible role edge_tunnel prints it). A public key, not a secret."
  type        = string
}

variable "acme_email" {
  description = "Contact address registered with Let's Encrypt."
  type        = string
}

variable "acme_ca" {
  description = "ACME directory; Let's Encrypt production by default (its staging directory while testing)."
  type        = string
  default     = "https://acme-v02.api.letsencrypt.org/directory"
}

variable "dashboard_host" {
  description = "Public host name of the dashboard, the only name served without a bearer token."
  type        = string
  default     = "dev.lab.engineconf.com"
}

variable "dashboard_upstream" {
  description = "The dashboard as the edge reaches it through the tunnel (the lab peer's tunnel address and the dashboard's NodePort)."
  type        = string
  default     = "10.99.0.2:30090"
}

variable "dashboard_user" {
  description = "User of the HTTP basic authentication in front of the dashboard."
  type        = string
  default     = "auditflow"
}

variable "dashboard_password_hash" {
  description = "bcrypt hash of the dashboard password (`caddy hash-password`); a hash, so user data never holds the password."
  type        = string
  sensitive   = true
}

variable "api_host" {
  description = "Public host name of the notification API; empty keeps the API off the internet. Requests without a bearer token are refused at the edge."
  type        = string
  default     = ""
}

variable "api_upstream" {
  description = "The notification API as the edge reaches it through the tunnel (used when api_host is set)."
  type        = string
  default     = "10.99.0.2:30800"
}
