from .results import (COLUMNS, MISSING, PAPER_REFERENCE, UNFINISHED, collect_row,
                      to_csv_rows, to_markdown)

__all__ = ['COLUMNS', 'MISSING', 'PAPER_REFERENCE', 'UNFINISHED', 'collect_row',
           'to_csv_rows', 'to_markdown']
