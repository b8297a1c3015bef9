"""Audio formats shared by the gateway, the stages and the CLI."""
