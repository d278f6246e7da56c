"""The project's Rasa plug-ins, and the process set-up every one of them triggers.

Rasa imports a plug-in by the dotted path that endpoints.yml (or
endpoints.production.yml) names: the settings NLG (`bot.rasa.nlg`), the redacting SQL
tracker store (`bot.rasa.tracker_store`) and the atomic Redis lock store
(`bot.rasa.lock_store`). Python runs this file before any module of the package, so
whichever of them an endpoints file names, the Rasa process

* redacts every log record before any handler sees it (bot/logging_policy.py),
* removes what parents wrote from every log record, Rasa's structured logs included
  (bot/rasa/message_logs.py),
* validates action server replies with one cached validator (bot/rasa/patches.py), and
* resolves event classes from their names with one table (bot/rasa/event_types.py).

Swapping one plug-in for Rasa's own therefore keeps them all, as long as the endpoints file
names one plug-in of this package (tests/unit/test_rasa_setup.py checks both project
endpoints files, and that importing any plug-in alone installs them all). The NLU components
(bot/nlu) do not import this package: a change here must not retrain the model.
"""

from bot import logging_policy
from bot.rasa import event_types, message_logs, patches

logging_policy.install()
message_logs.install()
patches.apply()
event_types.apply()
