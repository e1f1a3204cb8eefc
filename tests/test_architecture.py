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

    @staticmethod
    def _is_visible(expression, state, record_id):
        names = {
            node.id
            for node in ast.walk(ast.parse(expression, mode="eval"))
            if isinstance(node, ast.Name)
        }
        values = dict.fromkeys(names, False)
        values.update(state=state, id=record_id)
        return not safe_eval(expression, values)

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
