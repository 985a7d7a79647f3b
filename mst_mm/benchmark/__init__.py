from .results import (COLUMNS, MECHANISM_COLUMNS, MISSING, PAPER_REFERENCE, RANDOM_INIT,
                      TRANSFER_COLUMNS, UNFINISHED, Figure, collect_row, separated, shown,
                      to_csv_rows, to_markdown)

__all__ = ['COLUMNS', 'MECHANISM_COLUMNS', 'MISSING', 'PAPER_REFERENCE', 'RANDOM_INIT',
           'TRANSFER_COLUMNS', 'UNFINISHED', 'Figure', 'collect_row', 'separated', 'shown',
           'to_csv_rows', 'to_markdown']
