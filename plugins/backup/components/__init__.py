"""Built-in backup components, contributed through the backup plugin's own hook like any other."""
