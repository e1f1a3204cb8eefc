from odoo.exceptions import UserError
from odoo.tests import HttpCase, new_test_user, tagged

from .common import WorkOrderCommon

# Labels of the form and of the portal page, with their translation in each
# language the addon ships.
FORM_LABELS = {
    "es_ES": {
        "Customer & Property": "Cliente e inmueble",
        "Planning": "Planificación",
        "Lifecycle": "Ciclo de vida",
        "Send History": "Historial de envíos",
        "Save & Send Quote": "Guardar y enviar presupuesto",
    },
    "fr_FR": {
        "Customer & Property": "Client et propriété",
        "Planning": "Planification",
        "Lifecycle": "Cycle de vie",
        "Send History": "Historique des envois",
        "Save & Send Quote": "Enregistrer et envoyer le devis",
    },
}
PORTAL_LABELS = {
    "es_ES": {
        "Service Address": "Dirección del servicio",
        "Not scheduled yet": "Todavía sin programar",
        "Activity": "Actividad",
    },
    "fr_FR": {
        "Service Address": "Adresse d'intervention",
        "Not scheduled yet": "Pas encore planifié",
        "Activity": "Activité",
    },
}


@tagged("post_install", "-at_install")
class TestLanguages(WorkOrderCommon, HttpCase):
    """Spanish and French load, and the form and the portal page speak them."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        for lang in FORM_LABELS:
            cls.env["res.lang"]._activate_lang(lang)
        cls.env["ir.module.module"]._load_module_terms(
            ["work_order"], list(FORM_LABELS), overwrite=True
        )
        cls.order._action_quote()

    def test_form_labels(self):
        english = self.env["work.order"].get_view(view_type="form")["arch"]
        for lang, labels in FORM_LABELS.items():
            arch = (
                self.env["work.order"]
                .with_context(lang=lang)
                .get_view(view_type="form")["arch"]
            )
            for source, translation in labels.items():
                with self.subTest(lang=lang, label=source):
                    self.assertIn(self._xml(source), english)
                    self.assertIn(self._xml(translation), arch)
                    self.assertNotIn(f'"{self._xml(source)}"', arch)

    def test_portal_page_labels(self):
        for lang, labels in PORTAL_LABELS.items():
            login = f"wo_portal_{lang.lower()}"
            customer = self.customer.copy({"name": f"WO {lang} Customer"})
            new_test_user(
                self.env,
                login=login,
                groups="base.group_portal",
                partner_id=customer.id,
                lang=lang,
            )
            order = self._create_order(partner_id=customer.id, title="Portal job")
            order._action_quote()
            self.authenticate(login, login)
            # the first page in a language loads its translations: slow on a
            # busy machine, hence more than the default 12 s
            response = self.url_open(order.get_portal_url(), timeout=60)
            page = response.text.replace("&#39;", "'")
            for source, translation in labels.items():
                with self.subTest(lang=lang, label=source):
                    self.assertIn(translation, page)
                    self.assertNotIn(f">{source}<", page)

    def test_refusals_name_the_states_in_the_users_language(self):
        spanish = new_test_user(
            self.env,
            login="wo_office_es",
            groups="work_order.group_work_order_manager",
            lang="es_ES",
        )
        started = self._create_order(title="Started job")
        started._workflow_write({"state": "in_progress"})
        # from the web client (the context's language) and by RPC without one
        for context in ({"lang": "es_ES"}, {"lang": None}):
            with self.subTest(context=context):
                order = self.order.with_user(spanish).with_context(**context)
                with self.assertRaises(UserError) as refusal:
                    order.action_start()
                message = str(refusal.exception)
                self.assertIn("está en estado Presupuestada", message)
                self.assertIn("Marcar como aprobada", message)
                self.assertNotIn("Quoted", message)
                locked = started.with_user(spanish).with_context(**context)
                with self.assertRaises(UserError) as refusal:
                    locked.write({"title": "Cambio"})
                message = str(refusal.exception)
                self.assertIn("En curso", message)
                self.assertIn("Borrador, Presupuestada, Aprobada", message)
                self.assertNotIn("In Progress", message)
                self.assertNotIn("Draft", message)
        self.assertEqual(started.title, "Started job")

    @staticmethod
    def _xml(text):
        return text.replace("&", "&amp;").replace("'", "&#39;")
