"""What godparents did: logging, editing and the fate of letters."""
