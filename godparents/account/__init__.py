"""A user's own settings: contact details, language, time zone, reminders, password, calendar."""
