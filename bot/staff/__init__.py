"""What the school's staff use: services, command line, letters, charts, imports."""
