"""Callback requests: the shopper's button, the windows, dispatch and the bridged call."""
