"""Staff actions and their audit trail: who searched, viewed, revealed or suspended what."""
