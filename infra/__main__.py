"""baton's Pulumi program: read the stack config, compose the stack, export its outputs."""

from baton_infra.stack import deploy, export
from baton_infra.stack_config import from_pulumi
from baton_infra.workflow_source import read_workflow_source

export(deploy(from_pulumi(), read_workflow_source()))
