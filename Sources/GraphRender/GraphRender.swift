// Placeholder; replaced by the GraphRender implementation.
