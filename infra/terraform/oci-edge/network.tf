resource "oci_core_vcn" "edge" {
  compartment_id = var.compartment_ocid
  cidr_blocks    = [var.vcn_cidr]
  display_name   = "auditflow-edge"
  dns_label      = "afedge"
}

resource "oci_core_internet_gateway" "edge" {
  compartment_id = var.compartment_ocid
  vcn_id         = oci_core_vcn.edge.id
  display_name   = "auditflow-edge"
  enabled        = true
}

resource "oci_core_route_table" "edge" {
  compartment_id = var.compartment_ocid
  vcn_id         = oci_core_vcn.edge.id
  display_name   = "auditflow-edge"

  route_rules {
    destination       = "0.0.0.0/0"
    destination_type  = "CIDR_BLOCK"
    network_entity_id = oci_core_internet_gateway.edge.id
  }
}

# The edge's whole attack surface: HTTPS (TLS-ALPN-01 for Let's Encrypt runs on it too, so no
# port 80) and the tunnel's UDP port. No SSH, no ingest port, nothing else.
resource "oci_core_security_list" "edge" {
  compartment_id = var.compartment_ocid
  vcn_id         = oci_core_vcn.edge.id
  display_name   = "auditflow-edge"

  egress_security_rules {
    destination      = "0.0.0.0/0"
    destination_type = "CIDR_BLOCK"
    protocol         = "all"
    stateless        = false
  }

  ingress_security_rules {
    description = "HTTPS to the reverse proxy"
    source      = "0.0.0.0/0"
    source_type = "CIDR_BLOCK"
    protocol    = "6"
    stateless   = false

    tcp_options {
      min = 443
      max = 443
    }
  }

  ingress_security_rules {
    description = "WireGuard from the lab"
    source      = "0.0.0.0/0"
    source_type = "CIDR_BLOCK"
    protocol    = "17"
    stateless   = false

    udp_options {
      min = var.wireguard_port
      max = var.wireguard_port
    }
  }
}

resource "oci_core_subnet" "edge" {
  compartment_id             = var.compartment_ocid
  vcn_id                     = oci_core_vcn.edge.id
  cidr_block                 = var.subnet_cidr
  display_name               = "auditflow-edge-public"
  dns_label                  = "public"
  route_table_id             = oci_core_route_table.edge.id
  security_list_ids          = [oci_core_security_list.edge.id]
  prohibit_public_ip_on_vnic = false
}
