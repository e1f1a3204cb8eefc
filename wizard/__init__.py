from . import work_order_schedule
from . import work_order_hold
from . import work_order_on_my_way
