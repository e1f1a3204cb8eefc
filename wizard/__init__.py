from . import work_order_schedule
from . import work_order_hold
