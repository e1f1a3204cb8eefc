from . import test_install
from . import test_lifecycle
from . import test_lines_and_templates
from . import test_access
from . import test_backend_ui
from . import test_stock
from . import test_invoice
from . import test_mail_report
