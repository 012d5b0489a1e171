"""The operator's settings, never a spec's: where a credential may go, what a spec may
read (paths confined to its repository), what a run may cost (caps, list prices)."""
