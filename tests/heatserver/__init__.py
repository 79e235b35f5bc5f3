"""A fake cloud (Keystone, Heat, Nova console) for the Heat provisioner's tests."""
from tests.heatserver.server import HeatServer  # noqa: F401
