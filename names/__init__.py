"""Names: the nickname rules (blocked words, look-alike letters, real names) and the made-up
public names of under-16s. Pure rules and their word lists; imports no other domain."""
