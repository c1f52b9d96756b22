"""Working days on the Chinese calendar (statutory holidays and 调休), for the deadlines of the opening workflows."""
