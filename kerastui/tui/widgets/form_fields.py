"""How a labelled form field looks (a row of label, input and help, an error line below it), for
every widget and dialog with fields: part of each one's DEFAULT_CSS, so each can be used alone."""

FORM_FIELD_CSS = """
.field-row {
    height: auto;
    margin-top: 1;
}

.field-label {
    width: 18;
    padding-right: 1;
    color: $text-muted;
}

.field-row Input, .field-row Select {
    width: 20;
}

.field-help {
    width: 1fr;
    padding-left: 2;
}

.field-error {
    height: auto;
    padding-left: 18;
    color: $error;
    text-style: bold;
}

.field-error.-warning {
    color: $warning;
}

Input.-invalid {
    background: $error 25%;
}
"""
