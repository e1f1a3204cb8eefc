import ast

from lxml import etree

from odoo.tests import tagged
from odoo.tools.safe_eval import safe_eval

from odoo.addons.work_order.models.work_order import STATES

from .common import WorkOrderCommon


@tagged("post_install", "-at_install")
class TestFormFollowsTransitions(WorkOrderCommon):
    """The form's header buttons and the lifecycle table cannot drift apart."""

    def _header_buttons(self):
        """(method name, invisible expression) of each header button a manager sees."""
        arch = self.env["work.order"].with_user(self.manager).get_view(view_type="form")
        header = etree.fromstring(arch["arch"]).find(".//header")
        return [
            (button.get("name"), button.get("invisible") or "False")
            for button in header.iter("button")
            if button.get("type") == "object"
        ]

    def _phone_buttons(self):
        """(method name, or "save", invisible expression) of each button of the
        phone's next-step block a manager sees."""
        arch = self.env["work.order"].with_user(self.manager).get_view(view_type="form")
        blocks = etree.fromstring(arch["arch"]).xpath(
            "//div[contains(@class, 'o_work_order_next_step')]"
        )
        self.assertEqual(len(blocks), 2)  # the office's and the technician's
        return [
            (button.get("name") or button.get("special"), button.get("invisible"))
            for block in blocks
            for button in block.iter("button")
        ]

    def _next_steps(self):
        """(method name, or "save", invisible expression) of the header's next
        steps: its highlighted buttons and Save as Draft."""
        arch = self.env["work.order"].with_user(self.manager).get_view(view_type="form")
        header = etree.fromstring(arch["arch"]).find(".//header")
        return [
            (button.get("name") or button.get("special"), button.get("invisible"))
            for button in header.iter("button")
            if "oe_highlight" in (button.get("class") or "")
            or button.get("special") == "save"
        ]

    @staticmethod
    def _is_visible(expression, state, record_id, **values):
        names = {
            node.id
            for node in ast.walk(ast.parse(expression or "False", mode="eval"))
            if isinstance(node, ast.Name)
        }
        context = dict.fromkeys(names, False)
        context.update(values, state=state, id=record_id)
        return not safe_eval(expression or "False", context)

    def _situations(self):
        for state, _label in STATES:
            for record_id in (7, False):
                for outdated in (False, True):
                    yield state, record_id, {"approval_outdated": outdated}

    def test_phone_offers_each_next_step_where_the_header_does(self):
        header = self._header_buttons()
        phone = self._phone_buttons()
        next_steps = self._next_steps()
        self.assertIn("save", [name for name, _expr in next_steps])
        for state, record_id, values in self._situations():
            for name, expression in phone:
                if name not in self.env["work.order"]._get_transitions():
                    continue
                if self._is_visible(expression, state, record_id, **values):
                    with self.subTest(button=name, state=state, id=record_id):
                        # never where the header (and the transition) refuses
                        self.assertTrue(
                            any(
                                self._is_visible(
                                    header_expr, state, record_id, **values
                                )
                                for header_name, header_expr in header
                                if header_name == name
                            )
                        )
            for name, expression in next_steps:
                if self._is_visible(expression, state, record_id, **values):
                    with self.subTest(step=name, state=state, id=record_id):
                        self.assertTrue(
                            any(
                                self._is_visible(phone_expr, state, record_id, **values)
                                for phone_name, phone_expr in phone
                                if phone_name == name
                            ),
                            f"{name} needs the gear menu on a phone",
                        )

    def test_each_button_is_visible_exactly_where_its_transition_allows(self):
        transitions = self.env["work.order"]._get_transitions()
        buttons = self._header_buttons()
        shown = {}
        for name, expression in buttons:
            if name not in transitions:
                continue
            for state, _label in STATES:
                if self._is_visible(expression, state, record_id=7):
                    shown.setdefault(name, set()).add(state)
                # A new record never offers more than a saved one may do.
                if self._is_visible(expression, state, record_id=False):
                    self.assertIn(state, transitions[name], f"{name} on a new record")
        for action, states in transitions.items():
            with self.subTest(action=action):
                self.assertEqual(shown.get(action, set()), set(states))

    def test_visibility_evaluation_sees_a_wrong_expression(self):
        # The check itself can fail: a button shown in one state too many.
        self.assertTrue(
            self._is_visible("state not in ('draft', 'quoted')", "draft", 1)
        )
        self.assertFalse(self._is_visible("not id or state != 'draft'", "draft", False))
