// Placeholder; replaced by the Wire implementation.
