"""improve: diagnose a skill's lost prompts, propose and select better descriptions, apply one in place."""
