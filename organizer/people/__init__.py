"""People: faces grouped by person, named once (as labels), then searchable."""
