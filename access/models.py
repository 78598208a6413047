"""No models: the module exists so Django sends this app the post_migrate signal that keeps the groups in step."""
