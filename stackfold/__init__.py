"""stackfold."""
