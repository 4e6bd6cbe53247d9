"""The pytest plugin ``learning_phase`` (work in progress)."""
