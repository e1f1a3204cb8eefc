from . import portal
from . import portal_payment
from . import portal_agreement
