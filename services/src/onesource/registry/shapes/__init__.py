"""Answer shapes the gateway masks, as pure functions over parsed answers."""
