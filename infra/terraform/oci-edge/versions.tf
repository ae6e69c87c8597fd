terraform {
  required_version = ">= 1.6.0"

  required_providers {
    oci = {
      source  = "oracle/oci"
      version = "~> 6.21"
    }
  }

  # State lives in an OCI Object Storage bucket through its S3-compatible API; the bucket,
  # namespace and credentials are given at `terraform init -backend-config=...` time and never
  # committed (infra/terraform/README.md).
  backend "s3" {
    key                         = "auditflow/oci-edge.tfstate"
    region                      = "eu-frankfurt-1"
    skip_region_validation      = true
    skip_credentials_validation = true
    skip_requesting_account_id  = true
    skip_metadata_api_check     = true
    skip_s3_checksum            = true
    use_path_style              = true
  }
}

provider "oci" {
  region = var.region
}
