"""The demographic kernel: the projection step, life tables, graduation of age groups, the
canonical inputs directory, labelled frames of a projection and population indicators."""
