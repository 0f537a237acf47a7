"""Website visitors' actions (PRODUCT W1–W4): visits, the widget's sessions and messages, CSAT."""
