// Placeholder; replaced by the Autograd implementation.
