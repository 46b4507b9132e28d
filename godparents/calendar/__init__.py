"""The dates that matter: birthdays, anniversaries, milestones, hearings, campaign days."""
