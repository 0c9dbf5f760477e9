# The read-only role that cwsweep assumes, as a Terraform module: the same
# role as ../cwsweep-reader.cfn.json, with the same policy documents
# (../policies/*.json).  Apply it in each account (a provider per account,
# or one workspace per account); organizations_read = true in the
# management account only.

terraform {
  required_version = ">= 1.3"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 4.0"
    }
  }
}

variable "role_name" {
  description = "The role's name: defaults.role_name in the inventory."
  type        = string
  default     = "cwsweep-reader"
}

variable "role_path" {
  description = "The role's path (/ or /finops/)."
  type        = string
  default     = "/"
}

variable "sweeper_principal_arn" {
  description = "Who runs cwsweep: the role or user whose credentials assume this role."
  type        = string
}

variable "external_id" {
  description = "The sts:ExternalId the trust requires: external_id in the inventory."
  type        = string
}

variable "organizations_read" {
  description = "true in the management account only: also the Organizations listings."
  type        = bool
  default     = false
}

variable "metrics_write" {
  description = "true for a second role that `cwsweep enable-metrics --role-name` uses."
  type        = bool
  default     = false
}

resource "aws_iam_role" "reader" {
  name                 = var.role_name
  path                 = var.role_path
  max_session_duration = 3600
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "CwsweepAssume"
      Effect    = "Allow"
      Principal = { AWS = var.sweeper_principal_arn }
      Action    = "sts:AssumeRole"
      Condition = { StringEquals = { "sts:ExternalId" = var.external_id } }
    }]
  })
}

resource "aws_iam_role_policy" "read_metrics" {
  name   = "cwsweep-read-metrics"
  role   = aws_iam_role.reader.id
  policy = file("${path.module}/../policies/read-metrics.json")
}

resource "aws_iam_role_policy" "read_organization" {
  count  = var.organizations_read ? 1 : 0
  name   = "cwsweep-read-organization"
  role   = aws_iam_role.reader.id
  policy = file("${path.module}/../policies/read-organization.json")
}

resource "aws_iam_role_policy" "enable_metrics" {
  count  = var.metrics_write ? 1 : 0
  name   = "cwsweep-enable-metrics"
  role   = aws_iam_role.reader.id
  policy = file("${path.module}/../policies/enable-metrics.json")
}

output "role_arn" {
  description = "The role cwsweep assumes."
  value       = aws_iam_role.reader.arn
}
