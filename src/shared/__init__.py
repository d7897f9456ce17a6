"""basket-lab shared package."""
