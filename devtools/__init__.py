"""Developer tools that stand apart from the Django project: they import nothing from it."""
