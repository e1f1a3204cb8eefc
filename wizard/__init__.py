from . import work_order_schedule
from . import work_order_hold
from . import work_order_on_my_way
from . import work_order_deposit_waiver
from . import payment_link_wizard
from . import work_order_complete
from . import work_order_new_address
