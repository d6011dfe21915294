"""One module per article section, each returning a report Section built from library pieces."""
