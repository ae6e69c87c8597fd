locals {
  # The reverse proxy's configuration, rendered once here and shipped base64-encoded in the
  # user data (tests/infra render the same template with test values and run it).
  caddyfile = templatefile("${path.module}/templates/Caddyfile.tftpl", {
    acme_ca                 = var.acme_ca
    acme_email              = var.acme_email
    dashboard_host          = var.dashboard_host
    dashboard_upstream      = var.dashboard_upstream
    dashboard_user          = var.dashboard_user
    dashboard_password_hash = var.dashboard_password_hash
    api_host                = var.api_host
    api_upstream            = var.api_upstream
  })

  wireguard_conf = templatefile("${path.module}/templates/wg0.conf.tftpl", {
    tunnel_edge_address      = var.tunnel_edge_address
    tunnel_lab_address       = var.tunnel_lab_address
    wireguard_port           = var.wireguard_port
    lab_wireguard_public_key = var.lab_wireguard_public_key
    private_key_file         = "/etc/wireguard/edge.key"
  })

  user_data = templatefile("${path.module}/templates/cloud-init.yaml.tftpl", {
    caddyfile_b64      = base64encode(local.caddyfile)
    wireguard_conf_b64 = base64encode(local.wireguard_conf)
    wireguard_port     = var.wireguard_port
  })
}

resource "oci_core_instance" "edge" {
  compartment_id      = var.compartment_ocid
  availability_domain = var.availability_domain
  display_name        = "auditflow-edge"
  shape               = "VM.Standard.A1.Flex"

  shape_config {
    ocpus         = 1
    memory_in_gbs = 6
  }

  source_details {
    source_type             = "image"
    source_id               = var.image_ocid
    boot_volume_size_in_gbs = 50
  }

  create_vnic_details {
    subnet_id        = oci_core_subnet.edge.id
    assign_public_ip = true
    display_name     = "auditflow-edge"
  }

  metadata = {
    ssh_authorized_keys = var.ssh_public_key
    user_data           = base64encode(local.user_data)
  }

  instance_options {
    are_legacy_imds_endpoints_disabled = true
  }
}
