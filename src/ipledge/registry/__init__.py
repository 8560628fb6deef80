"""The registry: organisations, API keys, enterprises, patents, chains and provinces."""
