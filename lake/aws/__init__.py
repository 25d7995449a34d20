"""AWS: clients configured from settings, and provisioning (``deploy``)."""
