from . import work_order
from . import work_order_line
from . import work_order_template
from . import work_order_template_line
from . import account_move
from . import stock_picking
from . import sale_order
from . import sale_order_line
