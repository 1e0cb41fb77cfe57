"""Small reusable widgets of the kerastui terminal app (one widget per module)."""
