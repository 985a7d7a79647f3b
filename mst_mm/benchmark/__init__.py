from .results import (COLUMNS, MISSING, OPTIONAL_COLUMNS, PAPER_REFERENCE, UNFINISHED,
                      collect_row, shown_columns, to_csv_rows, to_markdown)

__all__ = ['COLUMNS', 'MISSING', 'OPTIONAL_COLUMNS', 'PAPER_REFERENCE', 'UNFINISHED',
           'collect_row', 'shown_columns', 'to_csv_rows', 'to_markdown']
