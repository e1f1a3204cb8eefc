from . import test_install
from . import test_lifecycle
from . import test_lines_and_templates
from . import test_access
from . import test_portal
