"""Advisory intents and entities of ../shared/intents.md (the public contract), hard-coded so tests run without
../shared."""

ADVISORY_INTENTS = [
    "ask_collector_legitimacy",
    "ask_home_entry",
    "ask_installment_negotiation",
    "report_harassment",
    "ask_third_party_contact",
    "ask_visit_process",
    "ask_collection_hours",
    "ask_criminal_risk",
    "ask_lawsuit",
    "ask_credit_report",
    "ask_complaint",
    "ask_evidence",
    "ask_fake_documents",
    "ask_fees_interest",
    "ask_collector_role",
    "emergency_now",
    "ask_prevent_overdue",
    "ask_how_to_respond",
]

# the entities the NLU may put into a parse (the flows' button entity `choice` is not part of the contract)
CONTRACT_ENTITIES = {"bank", "amount", "monthly_income", "monthly_expense", "overdue_duration", "relation", "behavior"}
