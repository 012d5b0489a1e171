"""What is learnt from runs: each logged to MLflow (`tracking`), runs compared side by
side from their folders (`compare`), reviewed predictions fed back as data (`feedback`)."""
