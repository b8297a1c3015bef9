"""The four stage services and the gateway that runs the loop."""
