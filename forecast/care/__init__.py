"""Care-service demand (beds, 托位) from a projection, supply paths and gaps against a plan, and the
planner's quantities (workforce, money, land)."""
